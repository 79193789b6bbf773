// Package libcheck holds no code: its tests check the behaviour Switchboard
// relies on from the Socket.IO library and that the patches carried in
// third_party/socket.io (see PATCHES.md there) provide. Each test fails on
// the unpatched library; when an upstream release makes a patch unneeded,
// these tests tell whether the copy can be dropped.
package libcheck

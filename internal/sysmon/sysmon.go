// Package sysmon moves the Go runtime's monitor thread (sysmon) to the
// idle scheduling class on Linux, so that its wake-ups stop preempting the
// threads that run Switchboard's goroutines.
//
// Why: after the process has been idle, sysmon is woken by the next system
// call or cgo call and then sleeps 20 µs at a time for at least a
// millisecond. A server that handles a message every few hundred
// microseconds and idles in between keeps it at that tick, and on a core
// the server shares with it each tick preempts the running thread: two
// context switches, dear on a virtual machine: most of a pinned core's
// context switches under load (docs/performance-journal.md).
//
// In SCHED_IDLE the thread still runs at once on a core with nothing else
// to do, and on a busy core it gets the class's small share, which is
// plenty for a thread that runs a few microseconds a tick: its duties
// (taking a P back from a long system call or cgo call, preempting a
// goroutine that ran 10 ms, polling the network when every P is busy) are
// late by about a millisecond under full load instead of 20 µs.
//
// Off by default (SWITCHBOARD_IDLE_MONITOR_THREAD=true turns it on): the
// thread is found by sampling /proc, and a wrong pick starves a thread
// that runs goroutines; under saturation the monitor's own duties
// (preemption, taking Ps back) starve with it.
package sysmon

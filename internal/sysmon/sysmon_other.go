//go:build !linux

package sysmon

import "errors"

// Idle is Linux-only: elsewhere the monitor thread keeps its class.
func Idle() (int, error) { return 0, errors.New("the idle scheduling class is Linux-only") }

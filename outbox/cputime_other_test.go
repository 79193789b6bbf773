//go:build !unix

package outbox_test

import "time"

// cpuTime is not measured here: the benchmark's cpu-µs/event reads 0.
func cpuTime() time.Duration { return 0 }

package sysmon

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Idle finds the monitor thread and puts it in SCHED_IDLE. It returns
// the thread's id.
func Idle() (int, error) {
	tid, err := find()
	if err != nil {
		return 0, err
	}
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}
	if err := unix.SchedSetAttr(tid, &attr, 0); err != nil {
		return 0, fmt.Errorf("sched_setattr(%d, SCHED_IDLE): %w", tid, err)
	}
	return tid, nil
}

// find picks the monitor thread out of the process's threads. The runtime
// sleeps in nanosleep only there (runtime.usleep: sysmon's tick, and a
// 3 µs pause of a thread stealing work), while its other threads wait in
// futex or epoll_pwait; so the thread seen in nanosleep most often over a
// few samples is the monitor. The sampling itself makes system calls,
// which wake the monitor from its deep sleep if the process was idle.
func find() (int, error) {
	seen := map[int]int{}
	for range 50 {
		tids, err := sleeping()
		if err != nil {
			return 0, err
		}
		for _, tid := range tids {
			seen[tid]++
		}
		if best, n := mostSeen(seen); n >= 5 {
			return best, nil
		}
		time.Sleep(time.Millisecond)
	}
	return 0, errors.New("no thread of this process sleeps like the runtime's monitor")
}

// sleeping lists the threads other than the main one that are in
// nanosleep now.
func sleeping() ([]int, error) {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	pid := os.Getpid()
	var tids []int
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil || tid == pid {
			continue
		}
		// The first field of /proc/<tid>/syscall is the number of the system
		// call the thread is blocked in ("running" when it is not).
		b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/syscall")
		if err != nil {
			continue // the thread exited, or /proc hides it
		}
		if nr, _, _ := strings.Cut(string(b), " "); nr == strconv.Itoa(syscall.SYS_NANOSLEEP) {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

func mostSeen(seen map[int]int) (tid, n int) {
	for t, c := range seen {
		if c > n || (c == n && t < tid) {
			tid, n = t, c
		}
	}
	return tid, n
}

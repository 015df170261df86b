package cluster

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkClassroom reports simulated seconds per wall second and per CPU second (the
// process's user and system time, the collector's included: on a shared machine the wall
// clock is noise) for the classroom cluster. allocs/op are allocations per simulated second.
//
// Its two sub-benchmarks are the classroom with its group of two consumers and with one
// consumer outside any group instead, so that one run measures the group's cost on the same
// machine (run them in turn: -bench 'Classroom/group$', then 'Classroom/without-group$').
func BenchmarkClassroom(b *testing.B) {
	b.Run("group", func(b *testing.B) { benchClassroom(b, Classroom) })
	b.Run("without-group", func(b *testing.B) { benchClassroom(b, ClassroomWithoutGroup) })
}

func benchClassroom(b *testing.B, build func(uint64) (*Cluster, error)) {
	c, err := build(1)
	if err != nil {
		b.Fatal(err)
	}
	c.RunFor(5 * time.Second)
	events := c.World.Trace().Len()
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		c.RunFor(time.Second)
	}
	wall := time.Since(start).Seconds()
	cpu := (cpuTime() - cpu0).Seconds()
	b.ReportMetric(float64(b.N)/wall, "sim-s/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu, "sim-s/cpu-s")
	}
	b.ReportMetric(float64(c.World.Trace().Len()-events)/wall, "events/s")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package cluster

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkClassroom reports simulated seconds per wall second and per CPU second (the
// process's user and system time, the collector's included: on a shared machine the wall
// clock is noise) for the classroom cluster. allocs/op are allocations per simulated second.
func BenchmarkClassroom(b *testing.B) {
	c, err := Classroom(1)
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

package cluster

import (
	"fmt"
	"os"
	"runtime/pprof"
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

// BenchmarkLarge reports simulated seconds per CPU second for cluster.Large: 100 brokers and
// 30,000 partitions at 10,000 records/s unless KAFKASIM_LARGE says BROKERSxPARTITIONS. The
// cluster's boot and the topic's creation are left out; each op is one simulated second.
// KAFKASIM_LARGE_PROFILE=FILE writes a CPU profile of the run alone.
func BenchmarkLarge(b *testing.B) {
	brokers, partitions := 100, 30000
	if s := os.Getenv("KAFKASIM_LARGE"); s != "" {
		if _, err := fmt.Sscanf(s, "%dx%d", &brokers, &partitions); err != nil {
			b.Fatalf("KAFKASIM_LARGE=%q: want BROKERSxPARTITIONS", s)
		}
	}
	start := time.Now()
	c, err := Large(1, brokers, partitions, 10000)
	if err != nil {
		b.Fatal(err)
	}
	setup := time.Since(start).Seconds()
	c.RunFor(time.Second)
	if f := os.Getenv("KAFKASIM_LARGE_PROFILE"); f != "" { // the run alone, not the boot
		out, err := os.Create(f)
		if err != nil {
			b.Fatal(err)
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		c.RunFor(time.Second)
	}
	cpu := (cpuTime() - cpu0).Seconds()
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu, "sim-s/cpu-s")
	}
	b.ReportMetric(setup, "setup-wall-s") // after ResetTimer, which clears metrics
}

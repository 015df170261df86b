package cluster

import (
	"testing"
	"time"
)

// BenchmarkClassroom reports simulated seconds per wall second for the classroom cluster.
func BenchmarkClassroom(b *testing.B) {
	c, err := Classroom(1)
	if err != nil {
		b.Fatal(err)
	}
	c.RunFor(5 * time.Second)
	events := c.World.Trace().Len()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		c.RunFor(time.Second)
	}
	wall := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/wall, "sim-s/s")
	b.ReportMetric(float64(c.World.Trace().Len()-events)/wall, "events/s")
}

package story

import (
	"regexp"
	"strings"
)

// The terms a caption may name, as theme.Styles.Lit keys them; each view marks what stands
// for them (tui/partition: the ISR, LEADER, EPOCH, ELR, HW and PARTITION columns, the HW and
// LEO markers on the replicas' bars, AR, ISR and OSR under them; the pane titles).
const (
	ISR        = "ISR"
	OSR        = "OSR"
	AR         = "AR"
	ELR        = "ELR"
	HW         = "HW"
	LEO        = "LEO"
	Leader     = "LEADER"
	Epoch      = "EPOCH"
	Replicas   = "REPLICAS"   // replica, follower: the partition's replicas
	Partition  = "PARTITION"  // partition, topic, segment
	Offset     = "OFFSET"     // the log offsets the bars span
	Broker     = "BROKER"     // the Cluster pane
	Controller = "CONTROLLER" // controller, ZooKeeper: the Cluster pane
	Client     = "CLIENT"     // producer, consumer: the Clients pane
	Group      = "GROUP"      // consumer group, coordinator: the Groups pane
)

// terms maps each term to how captions say it: English words (case-insensitive, whole words,
// a plural too) and the seeds' Chinese, which keeps AR, ISR, OSR, HW, LEO, Leader and Follower
// as they are.
var terms = []struct {
	term string
	re   *regexp.Regexp
}{
	{ISR, regexp.MustCompile(`\bISR\b|(?i:in-sync replica)|同步副本`)},
	{OSR, regexp.MustCompile(`\bOSR\b|(?i:out of sync)`)},
	{AR, regexp.MustCompile(`\bAR\b|(?i:assigned replica)`)},
	{ELR, regexp.MustCompile(`\bELR\b|(?i:eligible leader)`)},
	{HW, regexp.MustCompile(`\bHW\b|(?i:high watermark)|高水位`)},
	{LEO, regexp.MustCompile(`\bLEO\b|(?i:log end)|日志末端`)},
	{Leader, regexp.MustCompile(`(?i)\bleaders?\b|\bleaderships?\b`)},
	{Epoch, regexp.MustCompile(`(?i)\bepochs?\b`)},
	{Replicas, regexp.MustCompile(`(?i)\breplicas?\b|\bfollowers?\b|副本`)},
	{Partition, regexp.MustCompile(`(?i)\bpartitions?\b|\btopics?\b|\bsegments?\b|分区|主题`)},
	{Offset, regexp.MustCompile(`(?i)\boffsets?\b|偏移量|位移`)},
	{Broker, regexp.MustCompile(`(?i)\bbrokers?\b`)},
	{Controller, regexp.MustCompile(`(?i)\bcontrollers?\b|zookeeper`)},
	{Client, regexp.MustCompile(`(?i)\bproducers?\b|\bconsumers?\b|\backs\b|生产者|消费者`)},
	{Group, regexp.MustCompile(`(?i)\bgroups?\b|\bcoordinator\b|消费组|协调者`)},
}

// Terms are the terms text names, for theme.Styles.Lit: "The ISR shrinks" lights ISR.
// Nothing for empty text.
func Terms(text string) map[string]bool {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	var lit map[string]bool
	for _, t := range terms {
		if t.re.MatchString(text) {
			if lit == nil {
				lit = map[string]bool{}
			}
			lit[t.term] = true
		}
	}
	return lit
}

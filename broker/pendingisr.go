package broker

// PendingISR is the ISR this leader proposed in an AlterPartition not yet answered (Kafka's
// PendingExpandIsr or PendingShrinkIsr partition state, its sentLeaderAndIsr.isr); nil when
// none is in flight. The scenario condition `proposed isr TOPIC/I@B` reads it.
func (p *Partition) PendingISR() []int32 { return p.pending }

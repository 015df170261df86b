package tour

// Section is one section of a seed document, as the seed heads it.
type Section struct {
	Seed  string // the seed's file name
	ID    string // how step headers name it: "1.2 ISR", "2.4"
	Title string // the seed's own heading
}

// The seed documents.
const (
	Seed1 = "kafka-intro-1.txt"
	Seed2 = "kafka-intro-2.txt"
)

// Sections are every section of both seeds, in the seeds' order: kafka-intro-1's 1.1 (features),
// 1.2's concepts one by one, 1.3 and its two messaging models; kafka-intro-2's 一 (认识) and
// 二's 2.1–2.8.
var Sections = []Section{
	{Seed1, "1.1", "简介 · 特性 · 场景 · 技术优势"},
	{Seed1, "1.2 Producer", "Producer"},
	{Seed1, "1.2 Consumer", "Consumer"},
	{Seed1, "1.2 Topic", "Topic"},
	{Seed1, "1.2 Partition", "Partition"},
	{Seed1, "1.2 Partition offset", "Partition offset"},
	{Seed1, "1.2 Replicas", "Replicas of partition"},
	{Seed1, "1.2 Broker", "Broker"},
	{Seed1, "1.2 Leader", "Leader"},
	{Seed1, "1.2 Follower", "Follower"},
	{Seed1, "1.2 ZooKeeper", "Zookeeper"},
	{Seed1, "1.2 AR", "AR (Assigned Replicas)"},
	{Seed1, "1.2 ISR", "ISR (In-Sync Replicas)"},
	{Seed1, "1.2 OSR", "OSR (Out-of-Sync-Replicas)"},
	{Seed1, "1.2 HW", "HW (High Watermark)"},
	{Seed1, "1.2 LEO", "LEO (Log End Offset)"},
	{Seed1, "1.3", "消息系统介绍"},
	{Seed1, "1.3.1", "点对点消息传递模式"},
	{Seed1, "1.3.2", "发布-订阅消息传递模式"},
	{Seed2, "一", "认识 (架构 · 高可用 · 场景 · Kafka Vs RabbitMQ)"},
	{Seed2, "2.1", "主题"},
	{Seed2, "2.2", "分区"},
	{Seed2, "2.3", "复制"},
	{Seed2, "2.4", "事务"},
	{Seed2, "2.5", "生产者"},
	{Seed2, "2.6", "消费者"},
	{Seed2, "2.7", "偏移量"},
	{Seed2, "2.8", "Broker"},
}

// SectionByID is the section id names, or false.
func SectionByID(id string) (Section, bool) {
	for _, s := range Sections {
		if s.ID == id {
			return s, true
		}
	}
	return Section{}, false
}

package client

import "time"

// Send modes: how the application in front of the producer waits for its sends. "async"
// (the default) is KafkaProducer.send(record, callback): the application hands over records as
// it makes them and the producer pipelines them, batched per partition and up to
// max.in.flight.requests.per.connection requests per broker. "sync" is
// producer.send(record).get(): the application blocks on each record's Future until it is
// acknowledged or fails, so exactly one record is in flight and max.in.flight does not matter;
// each record still waits linger.ms in its batch of one before it is sent, as it does in
// Kafka. A rate is then a ceiling: a record that falls due while the application waits is
// sent only once the previous one completes, at that instant.

// syncSends is the application's side of send.mode=sync.
type syncSends struct {
	on   bool
	owed int64 // records due (by rate or SendRecords) that the blocked application has not sent yet
}

// hold reports whether a record due now must wait for the one in flight (send.mode=sync), and
// counts it as owed.
func (s *syncSends) hold() bool {
	if s.on {
		s.owed++
	}
	return s.on
}

// stop forgets the owed records: the application stopped sending (a new rate).
func (s *syncSends) stop() { s.owed = 0 }

// drain sends what is ready (sender.drain); under send.mode=sync it first hands over the next
// owed record once nothing is in flight, and again whenever a record completes within the
// drain (acks=0 completes at send time).
func (p *Producer) drain(now time.Duration) {
	if !p.sync.on {
		p.sender.drain(now)
		return
	}
	for {
		released := false
		if p.sync.owed > 0 && p.Stats().InFlight == 0 {
			p.sync.owed--
			p.createRecord(now, now)
			released = true
		}
		p.sender.drain(now)
		if !released || p.sync.owed == 0 || p.Stats().InFlight > 0 {
			return
		}
	}
}

package txn

import (
	"encoding/json"
	"strconv"
)

// appendMetadata appends m as encoding/json marshals it (the value of a __transaction_state
// record, TransactionLog.valueToBytes in spirit), byte for byte, without reflection: the
// coordinator writes one for every state change, several per transaction.
func appendMetadata(b []byte, m *Metadata) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, m.ID)
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, m.ProducerID, 10)
	b = append(b, `,"epoch":`...)
	b = strconv.AppendInt(b, int64(m.Epoch), 10)
	b = append(b, `,"timeout":`...)
	b = strconv.AppendInt(b, int64(m.Timeout), 10)
	b = append(b, `,"state":`...)
	b = strconv.AppendUint(b, uint64(m.State), 10)
	b = append(b, `,"partitions":`...)
	if m.Partitions == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, tp := range m.Partitions {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"Topic":`...)
			b = appendJSONString(b, tp.Topic)
			b = append(b, `,"Partition":`...)
			b = strconv.AppendInt(b, int64(tp.Partition), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"start":`...)
	b = strconv.AppendInt(b, int64(m.Start), 10)
	if m.Version != 0 {
		b = append(b, `,"tv":`...)
		b = strconv.AppendInt(b, int64(m.Version), 10)
	}
	b = append(b, `,"last":`...)
	b = strconv.AppendInt(b, int64(m.LastEpoch), 10)
	b = append(b, `,"updated":`...)
	b = strconv.AppendInt(b, int64(m.Updated), 10)
	return append(b, '}')
}

// appendJSONString appends s quoted as encoding/json does: printable ASCII other than the
// characters it escapes goes as it is; anything else is left to encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

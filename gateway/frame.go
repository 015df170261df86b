package gateway

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxFrame bounds a request's size (socket.request.max.bytes, 100 MiB by default).
const maxFrame = 100 << 20

// advertised is the ApiVersions table: every key the gateway serves, from version 0 (so that
// librdkafka before 2.11.1 keeps compression on: it tests for Produce v0) up to the highest
// version it implements. Produce and Fetch stop at v12 (v13 names topics by id), OffsetCommit
// and OffsetFetch at v9 (v10 likewise), ListOffsets at v8. Keys not listed are never used by
// the clients, which read this table first.
var advertised = map[int16]int16{
	0:  12, // Produce (v0-v2 message sets are refused by closing the connection)
	1:  12, // Fetch (v0-v3 likewise)
	2:  8,  // ListOffsets
	3:  12, // Metadata
	8:  9,  // OffsetCommit
	9:  9,  // OffsetFetch
	10: 6,  // FindCoordinator
	11: 9,  // JoinGroup
	12: 4,  // Heartbeat
	13: 5,  // LeaveGroup
	14: 5,  // SyncGroup
	18: 4,  // ApiVersions
	19: 7,  // CreateTopics
	22: 5,  // InitProducerId
	24: 5,  // AddPartitionsToTxn (v4+: the batched form of KIP-890, one or more transactions)
	25: 3,  // AddOffsetsToTxn (v4+: transaction.version 2)
	26: 5,  // EndTxn (v5: transaction.version 2, the epoch bumped at each end, KIP-890)
	28: 3,  // TxnOffsetCommit (v4+: transaction.version 2)
}

// minImplemented is the lowest version a key is served at; below it the connection closes
// although the version is advertised (record batches need Produce v3 and Fetch v4).
var minImplemented = map[int16]int16{0: 3, 1: 4, 2: 1}

// request is one decoded request frame.
type request struct {
	key, version int16
	corr         int32
	clientID     string
	req          kmsg.Request
}

var errFrame = errors.New("malformed request")

// parseRequest decodes a frame (the bytes after its size) as Kafka's request header (v1, or v2
// with tagged fields for a flexible version) and the body, through kmsg. An unknown key, a
// version the gateway does not serve or bytes kmsg cannot read are errors: the broker closes
// the connection (SocketServer's processor on an InvalidRequestException). ApiVersions above
// the advertised range is not an error: it is answered with UNSUPPORTED_VERSION (KIP-511).
func parseRequest(frame []byte) (*request, error) {
	r := kbin.Reader{Src: frame}
	key, version, corr := r.Int16(), r.Int16(), r.Int32()
	cid := r.NullableString()
	if !r.Ok() {
		return nil, errFrame
	}
	req := kmsg.RequestForKey(key)
	maxV, served := advertised[key]
	if req == nil || !served {
		return nil, fmt.Errorf("%w: unknown or unsupported API key %d", errFrame, key)
	}
	p := &request{key: key, version: version, corr: corr, req: req}
	if cid != nil {
		p.clientID = *cid
	}
	if key == 18 && version > maxV {
		return p, nil // answered with UNSUPPORTED_VERSION, body unread
	}
	if version < minImplemented[key] || version > maxV || version < 0 {
		return nil, fmt.Errorf("%w: %s v%d is not served", errFrame, kmsg.NameForKey(key), version)
	}
	req.SetVersion(version)
	if req.IsFlexible() {
		kmsg.SkipTags(&r)
	}
	if !r.Ok() {
		return nil, errFrame
	}
	if err := req.ReadFrom(r.Src); err != nil {
		return nil, fmt.Errorf("%w: %s v%d: %v", errFrame, kmsg.NameForKey(key), version, err)
	}
	return p, nil
}

// frameResponse encodes resp as a response frame to p: size, correlation id, the header's
// tag buffer for a flexible version (never for ApiVersions, whose response header is always
// v0), then the body.
func frameResponse(p *request, resp kmsg.Response) []byte {
	resp.SetVersion(p.version)
	b := make([]byte, 8, 64)
	binary.BigEndian.PutUint32(b[4:], uint32(p.corr))
	if resp.IsFlexible() && p.key != 18 {
		b = append(b, 0)
	}
	b = resp.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// apiVersions answers ApiVersions from the advertised table, outside the world: the
// negotiation is the connection's, not the cluster's. A version above the range gets a v0 body
// with UNSUPPORTED_VERSION (35) so the client retries lower (KIP-511).
func apiVersions(p *request) []byte {
	resp := kmsg.NewPtrApiVersionsResponse()
	for _, key := range slices.Sorted(maps.Keys(advertised)) {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = key, 0, advertised[key]
		resp.ApiKeys = append(resp.ApiKeys, k)
	}
	// The finalized features (KIP-584): transaction.version 2, as a Kafka 4 cluster finalizes
	// it by default, so that clients that speak KIP-890's part 2 do (txn.go).
	resp.FinalizedFeaturesEpoch = 1
	fin := kmsg.NewApiVersionsResponseFinalizedFeature()
	fin.Name, fin.MinVersionLevel, fin.MaxVersionLevel = "transaction.version", transactionVersion, transactionVersion
	resp.FinalizedFeatures = append(resp.FinalizedFeatures, fin)
	sup := kmsg.NewApiVersionsResponseSupportedFeature()
	sup.Name, sup.MinVersion, sup.MaxVersion = "transaction.version", 0, transactionVersion
	resp.SupportedFeatures = append(resp.SupportedFeatures, sup)
	if p.version > advertised[18] {
		resp.ErrorCode = 35
		q := *p
		q.version = 0
		return frameResponse(&q, resp)
	}
	return frameResponse(p, resp)
}

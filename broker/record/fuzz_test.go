package record

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode: no input makes Decode, Check or Recompress panic, and whatever Decode accepts
// encodes back to a batch that decodes to the same records. With fix set, the input's length
// and CRC are made right first, so mutations reach the codecs and the record parser instead of
// stopping at the CRC. The seed corpus is every small sample in every codec plus the files
// under testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, b := range samples() {
		if len(b.Records) > 100 {
			continue // keep the corpus small
		}
		for _, c := range Codecs {
			enc, err := Encode(b, Options{Codec: c, ValueBytes: 30})
			if err != nil {
				f.Fatal(err)
			}
			f.Add(enc, false)
			f.Add(enc, true)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, fix bool) {
		if fix && len(src) >= BatchOverhead {
			src = bytes.Clone(src)
			finish(src)
		}
		b, codec, n, err := Decode(src)
		if _, cerr := Check(src); err == nil && cerr != nil {
			t.Fatalf("Check refused (%v) what Decode accepted", cerr)
		}
		for _, c := range Codecs {
			_, _ = Recompress(src, c)
		}
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Code != CORRUPT_MESSAGE && e.Code != INVALID_RECORD {
				t.Fatalf("error code %d", e.Code)
			}
			return
		}
		if n > len(src) || n < BatchOverhead {
			t.Fatalf("size %d of %d bytes", n, len(src))
		}
		enc, err := Encode(b, Options{Codec: codec})
		if err != nil {
			t.Fatal(err)
		}
		again, _, _, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded batch does not decode: %v", err)
		}
		if enc2, _ := Encode(again, Options{Codec: codec}); !bytes.Equal(enc2, enc) {
			t.Fatal("decode∘encode is not stable")
		}
	})
}

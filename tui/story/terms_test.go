package story

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// A caption lights the terms it names, in English and in the seeds' Chinese, and only those.
func TestTermsACaptionNames(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"The Leader drops broker 3 from the ISR: ISR {1,2}, OSR {3}.", []string{Broker, ISR, Leader, OSR}},
		{"Leader 把 Broker 3 移出 ISR： ISR 为 {1,2}， OSR 为 {3}。", []string{Broker, ISR, Leader, OSR}},
		{"c1 can read only below the high watermark.", []string{HW}},
		{"消费者只能拉取到 HW 之前的消息， LEO=10 表示保存了 10 条消息。", []string{Client, HW, LEO}},
		{"Hardware and a shower: no term here.", nil},
		{"", nil},
	} {
		got := slices.Sorted(maps.Keys(Terms(tc.text)))
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("Terms(%q) = %s; want %s", tc.text, strings.Join(got, ","), strings.Join(want, ","))
		}
	}
}

package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/registry"
)

func TestTransferMeter(t *testing.T) {
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	now := start
	var lines []string
	m := &transferMeter{line: func(s string) { lines = append(lines, s) }, now: func() time.Time { return now }}
	steps := []struct {
		after time.Duration
		u     registry.Update
	}{
		{0, registry.Update{Complete: 0, Total: 2_000_000}},
		{10 * time.Millisecond, registry.Update{Complete: 100_000, Total: 2_000_000}},    // too soon
		{150 * time.Millisecond, registry.Update{Complete: 500_000, Total: 2_000_000}},   // drawn
		{160 * time.Millisecond, registry.Update{Complete: 2_000_000, Total: 2_000_000}}, // the end: always drawn
	}
	for _, s := range steps {
		now = start.Add(s.after)
		m.Update(s.u)
	}
	m.Done()
	m.Done() // once only
	want := []string{
		"copying 0 B of 2.0 MB (0%)",
		"copying 500.0 kB of 2.0 MB (25%)",
		"copying 2.0 MB of 2.0 MB (100%)",
		"",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {999, "999 B"}, {1000, "1.0 kB"}, {1_500_000, "1.5 MB"}, {209_715_200, "209.7 MB"}, {3_000_000_000, "3.00 GB"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := formatBytes(tt.n); got != tt.want {
				t.Errorf("formatBytes(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

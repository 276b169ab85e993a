package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/urfave/cli/v2"
)

func TestInterspersed(t *testing.T) {
	cmds := []*cli.Command{{
		Name: "find",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "commit", Aliases: []string{"c"}},
			&cli.BoolFlag{Name: "json"},
			&cli.StringSliceFlag{Name: "insecure-registry"},
		},
	}}
	tests := []struct {
		in, want string
	}{
		{"release find REPO --commit SHA", "release find --commit SHA REPO"},
		{"release find REPO --json --commit=SHA", "release find --json --commit=SHA REPO"},
		{"release find --commit SHA REPO", "release find --commit SHA REPO"},
		{"release find REPO -c SHA --insecure-registry h1 --insecure-registry h2", "release find -c SHA --insecure-registry h1 --insecure-registry h2 REPO"},
		{"release find A --json B", "release find --json A B"},
		{"release find REPO -- --json", "release find REPO -- --json"},
		{"release find REPO --commit", "release find --commit REPO"},
		{"release find - --json", "release find --json -"},
		{"release find REPO --unknown x", "release find --unknown REPO x"},
		{"release other A --json", "release other A --json"},
		{"release --help", "release --help"},
		{"release", "release"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := strings.Join(interspersed(cmds, strings.Fields(tt.in)), " ")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

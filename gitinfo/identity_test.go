package gitinfo_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/releasetool/release/gitinfo/gitinfotest"
)

func TestUserIdentity(t *testing.T) {
	tests := []struct {
		name                string
		global              string // ~/.gitconfig
		local               [][2]string
		wantName, wantEmail string
	}{
		{name: "unset"},
		{name: "global", global: "[user]\n\tname = Global User\n\temail = global@example.com\n", wantName: "Global User", wantEmail: "global@example.com"},
		{name: "local", local: [][2]string{{"user.name", "Local User"}, {"user.email", "local@example.com"}}, wantName: "Local User", wantEmail: "local@example.com"},
		{
			name:     "local wins over global, per key",
			global:   "[user]\n\tname = Global User\n\temail = global@example.com\n",
			local:    [][2]string{{"user.email", "local@example.com"}},
			wantName: "Global User", wantEmail: "local@example.com",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateGitConfig(t)
			if tt.global != "" {
				if err := os.WriteFile(filepath.Join(os.Getenv("HOME"), ".gitconfig"), []byte(tt.global), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := gitinfotest.New(t)
			r.Commit("a")
			for _, kv := range tt.local {
				r.Git("config", kv[0], kv[1])
			}
			name, email, err := open(t, r.Dir).UserIdentity(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if name != tt.wantName || email != tt.wantEmail {
				t.Errorf("UserIdentity = %q <%s>, want %q <%s>", name, email, tt.wantName, tt.wantEmail)
			}
		})
	}
}

package release

import (
	"errors"
	"strings"
	"testing"
)

func TestValidRepository(t *testing.T) {
	tests := []struct {
		repo     string
		wantErr  string // "" = valid
		wantHint string
	}{
		{repo: "app"},
		{repo: "org/app"},
		{repo: "127.0.0.1:5000/app"},
		{repo: "localhost/app"},
		{repo: "localhost:5000/team/sub/app"},
		{repo: "Registry.Example:443/org/my_app-x"},
		{repo: "[::1]:5000/app"},
		{repo: "reg.example/a__b/c.d/e--f"},
		{repo: "", wantErr: "empty"},
		{repo: "org/App", wantErr: "must be lower case", wantHint: "use --image org/app"},
		{repo: "127.0.0.1:5000/Team/App", wantErr: "must be lower case", wantHint: "use --image 127.0.0.1:5000/team/app"},
		{repo: "app:1.0.0", wantErr: "has a tag", wantHint: "repository only"},
		{repo: "reg.example/app:latest", wantErr: "has a tag"},
		{repo: "app@sha256:" + strings.Repeat("a", 64), wantErr: "has a digest"},
		{repo: "org//app", wantErr: "not valid"},
		{repo: "org/app/", wantErr: "not valid"},
		{repo: "org/-app", wantErr: "not valid"},
		{repo: "org/app_", wantErr: "not valid"},
		{repo: "org/a___b", wantErr: "not valid"},
		{repo: "org/ap p", wantErr: "not valid"},
		{repo: "bad_host.example:x/app", wantErr: "registry host"},
		{repo: "reg.example/" + strings.Repeat("a", 250), wantErr: "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			err := ValidRepository(tt.repo)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("ValidRepository(%q) = %v, want nil", tt.repo, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ValidRepository(%q) = %v, want ErrInvalid containing %q", tt.repo, err, tt.wantErr)
			}
			if tt.wantHint != "" && !strings.Contains(Hint(err), tt.wantHint) {
				t.Errorf("ValidRepository(%q) hint = %q, want it to contain %q", tt.repo, Hint(err), tt.wantHint)
			}
		})
	}
}

package release

import (
	"errors"
	"fmt"
	"testing"
)

func TestWithHint(t *testing.T) {
	base := fmt.Errorf("shallow clone: %w", ErrHistory)
	err := fmt.Errorf("deriving the version: %w", WithHint(base, "git fetch --unshallow --tags"))
	if !errors.Is(err, ErrHistory) {
		t.Errorf("errors.Is(ErrHistory) = false through a hint")
	}
	if got := err.Error(); got != "deriving the version: shallow clone: history insufficient" {
		t.Errorf("message = %q: the hint must not be in it", got)
	}
	if got := Hint(err); got != "git fetch --unshallow --tags" {
		t.Errorf("Hint = %q", got)
	}
	var h *HintError
	if !errors.As(err, &h) || h.Hint != "git fetch --unshallow --tags" {
		t.Errorf("errors.As(*HintError) = %+v", h)
	}
	if Hint(base) != "" || WithHint(nil, "x") != nil {
		t.Errorf("no hint expected")
	}
}

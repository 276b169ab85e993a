package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/releasetool/release/registry"
)

// isTerminal reports whether w is a terminal: progress is drawn only
// there (SPEC §1), never into a pipe, a file, /dev/null or a CI log.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressLine returns a function that rewrites one progress line on
// stderr ("" clears it), or nil when stderr is not a terminal, --quiet is
// set, or --json is: progress never reaches logs or pipes, and a run
// whose output a program reads draws nothing for a person.
func (p *program) progressLine(c *cli.Context) func(string) {
	if p.ui.quiet || c.Bool("json") || !p.stderrIsTerminal {
		return nil
	}
	return func(s string) {
		if s == "" {
			fmt.Fprint(p.stderr, "\r\033[K")
			return
		}
		fmt.Fprintf(p.stderr, "\r\033[Krelease: %s", s)
	}
}

// transferMeter turns the registry client's byte counts into the progress
// line (program.progressLine), redrawn at most every meterEvery so that a
// fast transfer does not spend its time drawing.
type transferMeter struct {
	line func(string)
	now  func() time.Time

	mu    sync.Mutex
	last  time.Time
	drawn bool
}

// meterEvery bounds the redraws: often enough to look alive.
const meterEvery = 100 * time.Millisecond

// Update draws u unless the last draw was too recent; the end of a
// transfer (complete equals total) is always drawn.
func (m *transferMeter) Update(u registry.Update) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.now()
	final := u.Total > 0 && u.Complete >= u.Total
	if m.drawn && !final && t.Sub(m.last) < meterEvery {
		return
	}
	m.last, m.drawn = t, true
	pct := int64(0)
	if u.Total > 0 {
		pct = u.Complete * 100 / u.Total
	}
	m.line(fmt.Sprintf("copying %s of %s (%d%%)", formatBytes(u.Complete), formatBytes(u.Total), pct))
}

// Done clears the line if anything was drawn.
func (m *transferMeter) Done() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.drawn {
		m.line("")
		m.drawn = false
	}
}

// formatBytes is a size for a person: B, kB, MB, GB (powers of 1000, as
// docker and crane print them).
func formatBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}

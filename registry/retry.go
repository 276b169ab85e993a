package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// withDefaults fills the zero fields of p.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts < 1 {
		p.Attempts = 5
	}
	if p.Initial <= 0 {
		p.Initial = 250 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 10 * time.Second
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 60 * time.Second
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff is the wait before try number attempt+1 (attempt counts from 1).
// A Retry-After the server sent wins over the computed backoff, capped.
func (p RetryPolicy) backoff(attempt int, err error) time.Duration {
	var re *ResponseError
	if errors.As(err, &re) && re.RetryAfter > 0 {
		return min(re.RetryAfter, p.MaxRetryAfter)
	}
	d := p.Initial
	for i := 1; i < attempt && d < p.Max; i++ {
		d *= 3
	}
	d = min(d, p.Max)
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return d + jitter
}

// retry runs op until it succeeds, fails for good, or the policy's
// attempts are spent. op is called with the try number (from 1).
func (p RetryPolicy) retry(ctx context.Context, op func(attempt int) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = op(attempt)
		if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			// Whatever failed, the cancellation is the cause.
			return fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		if err == nil || !retryable(ctx, err) || attempt >= p.Attempts {
			return err
		}
		if serr := p.Sleep(ctx, p.backoff(attempt, err)); serr != nil {
			return err
		}
	}
}

// retryableStatus are the HTTP statuses worth another try.
var retryableStatus = map[int]bool{
	http.StatusRequestTimeout:      true,
	http.StatusTooManyRequests:     true,
	499:                            true, // client closed request (nginx), seen behind proxies
	http.StatusInternalServerError: true,
	http.StatusBadGateway:          true,
	http.StatusServiceUnavailable:  true,
	http.StatusGatewayTimeout:      true,
	522:                            true, // connection timed out (Cloudflare)
}

// errRetry marks an error as transient whatever its cause (for instance a
// request that met an expired token and could not be replayed in place).
type errRetry struct{ err error }

func (e *errRetry) Error() string { return e.err.Error() }
func (e *errRetry) Unwrap() error { return e.err }

// errFinal marks an error as final whatever its cause: it was retried
// already (a token exchange, which has its own retries, failing under a
// request that would otherwise retry it again).
type errFinal struct{ err error }

func (e *errFinal) Error() string { return e.err.Error() }
func (e *errFinal) Unwrap() error { return e.err }

// retryable reports whether err is transient: a retryable status, a reset
// or dropped connection, or a timeout; never a cancelled context.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ef *errFinal
	if errors.As(err, &ef) {
		return false
	}
	var er *errRetry
	if errors.As(err, &er) {
		return true
	}
	var re *ResponseError
	if errors.As(err, &re) {
		return retryableStatus[re.Status]
	}
	var ae *AuthError
	if errors.As(err, &ae) || errors.Is(err, ErrInsecureRefused) || errors.Is(err, ErrUnknownAuthority) {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	// net/http reports some dropped connections only as text.
	msg := err.Error()
	for _, s := range []string{"connection reset", "broken pipe", "server closed", "EOF", "transport connection broken"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date. Zero when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

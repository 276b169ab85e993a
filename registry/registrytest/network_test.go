package registrytest

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestNetworkRoundTrips: what each request costs on the simulated network,
// in round trips of the fake clock.
func TestNetworkRoundTrips(t *testing.T) {
	const rtt = 10 * time.Millisecond
	plain, tls := New(t), New(t, WithTLS())
	tests := []struct {
		name string
		// batches of concurrent GET /v2/ requests, one after the other.
		batches [][]string
		want    []time.Duration // the end of each batch
		wantErr string
	}{
		{"plain: connect, then reuse", [][]string{{"http://" + plain.Host}, {"http://" + plain.Host}}, []time.Duration{2 * rtt, 3 * rtt}, ""},
		{"plain: concurrent requests need connections", [][]string{{"http://" + plain.Host, "http://" + plain.Host}, {"http://" + plain.Host, "http://" + plain.Host, "http://" + plain.Host}}, []time.Duration{2 * rtt, 4 * rtt}, ""},
		{"https: TCP and TLS, then one shared connection", [][]string{{"https://" + tls.Host, "https://" + tls.Host}, {"https://" + tls.Host, "https://" + tls.Host, "https://" + tls.Host}}, []time.Duration{3 * rtt, 4 * rtt}, ""},
		{"https to a plain server", [][]string{{"https://" + plain.Host}}, []time.Duration{2 * rtt}, "server gave HTTP response to HTTPS client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := NewNetwork(rtt, plain, tls)
			var ends []time.Duration
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				c := http.Client{Transport: n}
				for _, batch := range tt.batches {
					var wg sync.WaitGroup
					for _, base := range batch {
						wg.Go(func() {
							resp, err := c.Get(base + "/v2/")
							if tt.wantErr != "" {
								if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
									t.Errorf("err = %v, want %q", err, tt.wantErr)
								}
								return
							}
							if err != nil {
								t.Error(err)
								return
							}
							resp.Body.Close()
							if resp.StatusCode != http.StatusOK {
								t.Errorf("status %d", resp.StatusCode)
							}
						})
					}
					wg.Wait()
					ends = append(ends, time.Since(start))
				}
			})
			if diff := cmp.Diff(tt.want, ends); diff != "" {
				t.Errorf("batch ends (-want +got):\n%s", diff)
			}
			if got := n.Elapsed(); got != tt.want[len(tt.want)-1] {
				t.Errorf("Elapsed = %v, want %v", got, tt.want[len(tt.want)-1])
			}
		})
	}
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"time"
)

// delay forwards TCP connections from -listen to -to, holding every chunk
// of data for half of -rtt in each direction, so that each request and its
// answer cost one round trip; a connection's first bytes also wait one
// more round trip, the TCP handshake the proxy answers at once. It stands
// in for `tc qdisc … netem delay` on kernels built without netem.
// Bandwidth is not limited; chunks keep their order.
func delay(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("delay", flag.ContinueOnError)
	listen := fs.String("listen", "", "address to listen on")
	to := fs.String("to", "", "address to forward to")
	rtt := fs.Duration("rtt", 10*time.Millisecond, "round-trip time to add")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *listen == "" || *to == "" {
		return errors.New("delay needs -listen and -to")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	fmt.Printf("delaying %s → %s by %v per round trip\n", *listen, *to, *rtt)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go forward(c.(*net.TCPConn), *to, *rtt)
	}
}

func forward(client *net.TCPConn, to string, rtt time.Duration) {
	defer client.Close()
	c, err := net.Dial("tcp", to)
	if err != nil {
		return
	}
	server := c.(*net.TCPConn)
	defer server.Close()
	done := make(chan struct{}, 2)
	go func() { pipe(client, server, rtt/2, rtt); done <- struct{}{} }()
	go func() { pipe(server, client, rtt/2, 0); done <- struct{}{} }()
	<-done
	<-done
}

// chunk is data read at one moment, due for delivery at another.
type chunk struct {
	b   []byte
	due time.Time
}

// pipe copies src to dst, each chunk delivered oneway after it was read
// (the first one extra later), then half-closes dst.
func pipe(src, dst *net.TCPConn, oneway, extra time.Duration) {
	queue := make(chan chunk, 1024)
	go func() {
		defer close(queue)
		for first := true; ; first = false {
			buf := make([]byte, 64<<10)
			n, err := src.Read(buf)
			if n > 0 {
				due := time.Now().Add(oneway)
				if first {
					due = due.Add(extra)
				}
				queue <- chunk{buf[:n], due}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range queue {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.b); err != nil {
			for range queue {
			}
			break
		}
	}
	dst.CloseWrite()
}

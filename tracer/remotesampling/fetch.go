package remotesampling

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// fetcher asks the strategy server once.
type fetcher interface {
	fetch(ctx context.Context) (response, error)
	close()
}

func newFetcher(endpoint, service string, timeout time.Duration, client *http.Client, maxOperations int) (fetcher, error) {
	scheme, rest, hasScheme := strings.Cut(endpoint, "://")
	scheme = strings.ToLower(scheme)
	if hasScheme && (scheme == "http" || scheme == "https") {
		u, err := url.Parse(endpoint)
		if err != nil {
			return nil, fmt.Errorf("jaeger_remote endpoint: not a URL")
		}
		q := u.Query()
		q.Set("service", service)
		u.RawQuery = q.Encode()
		if client == nil {
			client = &http.Client{Timeout: timeout}
		}
		return &httpFetcher{url: u.String(), client: client, maxOperations: maxOperations}, nil
	}
	target := endpoint
	creds := insecure.NewCredentials()
	if hasScheme {
		target = rest
		if scheme == "grpcs" {
			creds = credentials.NewTLS(nil)
		}
	}
	// NewClient connects lazily and reconnects by itself: a server down at
	// start is only a failed poll.
	conn, err := grpc.NewClient("passthrough:///"+target, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxBodyBytes)))
	if err != nil {
		return nil, fmt.Errorf("jaeger_remote endpoint: %w", err)
	}
	return &grpcFetcher{conn: conn, request: encodeParameters(service), maxOperations: maxOperations}, nil
}

type httpFetcher struct {
	url           string
	client        *http.Client
	maxOperations int
}

func (f *httpFetcher) fetch(ctx context.Context) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := f.client.Do(req)
	if err != nil {
		return response{}, errors.New(strings.ReplaceAll(err.Error(), f.url, redact(f.url)))
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxBodyBytes+1))
	if err != nil {
		return response{}, fmt.Errorf("reading the answer: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return response{}, fmt.Errorf("answered %s", res.Status)
	}
	if len(body) > MaxBodyBytes {
		return response{}, fmt.Errorf("answer over %d bytes refused", MaxBodyBytes)
	}
	return parseJSON(body, f.maxOperations)
}

func (f *httpFetcher) close() { f.client.CloseIdleConnections() }

type grpcFetcher struct {
	conn          *grpc.ClientConn
	request       []byte // SamplingStrategyParameters, the same each poll
	maxOperations int
}

func (f *grpcFetcher) fetch(ctx context.Context) (response, error) {
	var res rawMessage
	err := f.conn.Invoke(ctx, getSamplingStrategy, &rawMessage{b: f.request}, &res, grpc.ForceCodecV2(codec{}))
	if err != nil {
		return response{}, err
	}
	return decodeResponse(res.b, f.maxOperations)
}

func (f *grpcFetcher) close() { _ = f.conn.Close() }

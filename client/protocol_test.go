package client_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"bbimport/client"
	"bbimport/model"
	"bbimport/server"
	"bbimport/server/servertest"
)

// The client's access token against serve configured with one: the right
// token passes, a wrong one says to use a password instead.
func TestClientTokenAgainstServe(t *testing.T) {
	srv, err := server.New(server.Config{Importer: servertest.New(t.TempDir()),
		Admin: server.Credentials{User: "admin", Password: "pw", Token: "BBDC-right"}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx := context.Background()
	dialToken := func(token string) *client.Client {
		c, err := client.New(client.Config{BaseURL: hs.URL, Token: token, StateDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := dialToken("BBDC-right").Job(ctx, 42); !errors.Is(err, model.ErrJobNotFound) {
		t.Errorf("right token: %v, want no such job", err)
	}
	_, err = dialToken("BBDC-wrong").Job(ctx, 42)
	if err == nil || !strings.Contains(err.Error(), "(HTTP 401 Unauthorized); the server refused the access token: current Bitbucket versions refuse tokens") {
		t.Errorf("wrong token: %v", err)
	}

	id, err := dialToken("").Identity(ctx)
	if err != nil || id.Product != "bbimport" || id.Version != "9.4.18" {
		t.Errorf("identity %+v %v, want bbimport following Bitbucket 9.4.18", id, err)
	}
}

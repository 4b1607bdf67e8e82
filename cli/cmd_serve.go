package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"bbimport/importer"
	"bbimport/server"
)

type serveOptions struct {
	listen      string
	credentials string
	tlsCert     string
	tlsKey      string
	logFile     string
}

// requestGrace bounds the wait for in-flight requests once the importer
// has stopped.
const requestGrace = 10 * time.Second

func newServeCmd(g *globalFlags) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the importer through Bitbucket's migration REST API",
		Long: `serve answers Bitbucket Data Center's migration REST API on an instance
home of its own, so Atlassian's curl commands and 'bbimport --url' work
against it: POST /rest/api/1.0/migration/imports and the calls around it,
plus read-only projects, repositories and pull requests.

Every call but /application-properties needs HTTP Basic auth as the one admin
account, from BBIMPORT_ADMIN_USER and BBIMPORT_ADMIN_PASSWORD or from
--credentials FILE (a user:password line; not readable by others).

Imports run in runner processes of their own, as with the other commands:
serve, the console and the commands may use one home at once, and an
import goes on when serve stops. On SIGTERM or Ctrl-C serve refuses new
imports and exits; cancel a running import with 'bbimport cancel JOB'.

The log goes to stderr, or to --log FILE. Started in the background of a
terminal ('serve &'), it goes to <home>/log/serve.log instead, so that it
does not write over the console running in the foreground.`,
		Example: `  BBIMPORT_ADMIN_USER=admin BBIMPORT_ADMIN_PASSWORD=secret bbimport serve --home /srv/bbimport
  bbimport serve --credentials ~/.bbimport-admin --listen 0.0.0.0:7990 --tls-cert cert.pem --tls-key key.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), g, o, cmd.ErrOrStderr(), inBackgroundOf)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:7990", "address to listen on (port 0 picks a free one)")
	f.StringVar(&o.credentials, "credentials", "", "file holding the admin's user:password (default: BBIMPORT_ADMIN_USER and BBIMPORT_ADMIN_PASSWORD)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate for HTTPS (with --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "PEM private key for HTTPS (with --tls-cert)")
	f.StringVar(&o.logFile, "log", "", "append the log to FILE (default stderr; <home>/log/serve.log when run in a terminal's background)")
	return cmd
}

func runServe(ctx context.Context, g *globalFlags, o serveOptions, stderr io.Writer, inBackground func(io.Writer) bool) (err error) {
	admin, err := server.LoadCredentials(o.credentials, os.Getenv)
	if err != nil {
		return err
	}
	in, err := openImporter(g, true)
	if err != nil {
		return err
	}
	home := in.Home()
	defer in.Close()

	logOut, closeLog, err := serveLog(o.logFile, home, stderr, inBackground)
	if err != nil {
		return err
	}
	defer func() {
		// The log file is appended to: a failed close may have lost its end.
		if cerr := closeLog(); cerr != nil && err == nil {
			err = fmt.Errorf("close the log: %w", cerr)
		}
	}()
	log := slog.New(slog.NewTextHandler(logOut, nil))
	srv, err := server.New(server.Config{Importer: in, Admin: admin, Version: importer.Version(),
		TLSCert: o.tlsCert, TLSKey: o.tlsKey, Log: log})
	if err != nil {
		return err
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", o.listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("listen on %s: the address is in use by another program (a bbimport serve already running?); stop it, or choose another address with --listen", o.listen)
		}
		return fmt.Errorf("listen on %s: %w", o.listen, err)
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		// A second signal ends the process at once.
		stop()
	}()

	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	addr := ln.Addr().(*net.TCPAddr)
	if !addr.IP.IsLoopback() && scheme == "http" {
		log.Warn("listening beyond loopback without TLS: the admin password crosses the network in clear text; pass --tls-cert and --tls-key")
	}
	log.Info("serving", slog.String("url", fmt.Sprintf("%s://%s/rest/api/1.0", scheme, addr)),
		slog.String("home", home), slog.String("importDir", in.ImportDir()), slog.String("admin", admin.User))
	if err := srv.Serve(ctx, ln, requestGrace); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// serveLog opens where serve's log goes: the --log file, else stderr,
// unless stderr is a terminal that serve runs in the background of, where
// the log would land in the middle of the console in the foreground: it
// then goes to <home>/log/serve.log, and stderr says so once.
func serveLog(file, home string, stderr io.Writer, inBackground func(io.Writer) bool) (io.Writer, func() error, error) {
	if file == "" && !inBackground(stderr) {
		return stderr, func() error { return nil }, nil
	}
	if file == "" {
		file = filepath.Join(home, "log", "serve.log")
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return nil, nil, fmt.Errorf("make the log directory of %s: %w", home, err)
		}
		fmt.Fprintf(stderr, "bbimport serve: in the background of this terminal; the log goes to %s\n", file)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open the log file: %w", err)
	}
	return f, f.Close, nil
}

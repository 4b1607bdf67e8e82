module bbimport/scripts/clientcheck

go 1.26.8

replace bbimport => ../..

require (
	bbimport v0.0.0-00010101000000-000000000000
	github.com/gfleury/go-bitbucket-v1 v0.0.0-20240917142304-df385efaac68
)

require (
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/golang/protobuf v1.2.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/mitchellh/mapstructure v1.1.2 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	golang.org/x/net v0.43.0 // indirect
	golang.org/x/oauth2 v0.0.0-20190604053449-0f29369cfe45 // indirect
	golang.org/x/sys v0.50.0 // indirect
	google.golang.org/appengine v1.4.0 // indirect
	modernc.org/libc v1.80.1 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
	modernc.org/sqlite v1.62.0 // indirect
)

# desk — see README.md
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
DATA    ?= .data/demo
STATICCHECK_VERSION := v0.8.2
STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: run build test bench fuzz vet fmt clean integration

## run: the console on a demo mailbox (data in $(DATA); delete it to start afresh)
run: build
	./bin/desk demo --data $(DATA)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/desk ./cmd/desk

## test: every test, including the Dovecot integration suite when dovecot is installed
test: vet
	$(GO) test -count=1 -timeout 9m ./...

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(STATICCHECK) ./...

## bench: the benchmarks (numbers for the issue notes)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 120m ./...

## fuzz: a short fuzzing run of the mail parser and the text sanitiser
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./mailin/
	$(GO) test -run '^$$' -fuzz FuzzText -fuzztime 30s ./termtext/

clean:
	rm -rf bin .data

# Portico's build and test entry points. `make test` is what CI runs.
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 10s
# Fuzz targets run briefly by `make fuzz`: package:Target.
FUZZ_TARGETS ?= \
	./internal/router:FuzzAdd \
	./internal/router:FuzzLookup \
	./internal/stagevar:FuzzExpand \
	./integration:FuzzTargetExpand \
	./integration:FuzzFunctionResponse \
	./integration:FuzzRegistryLookup \
	./cache:FuzzEntryUnmarshal \
	./cache:FuzzCacheControl \
	./cache:FuzzKey \
	./throttle:FuzzParseMethodKey \
	./throttle:FuzzMemoryStore \
	./throttle:FuzzQuotaWindow \
	./throttle:FuzzBucketTable

.PHONY: test fmt-check vet staticcheck race fuzz bench quickstart

test: fmt-check vet staticcheck race fuzz

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

race:
	$(GO) test -race -count=1 ./...

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

quickstart:
	$(GO) run ./examples/quickstart

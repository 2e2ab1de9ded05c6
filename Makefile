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
	./throttle:FuzzBucketTable \
	./auth:FuzzPolicy \
	./auth:FuzzParseAuthorization \
	./transform/vtl:FuzzVTL \
	./transform/jsonpath:FuzzJSONPath \
	./transform:FuzzTemplateVTL \
	./transform:FuzzGoTemplate \
	./transform:FuzzParameterMapping \
	./transform:FuzzCompileModels \
	./openapi:FuzzImport \
	./websocket:FuzzSelectionExpression \
	./websocket:FuzzConnectionsPath \
	./websocket:FuzzFrameConn \
	./redisstore:FuzzDecodeCommand \
	./openapi/sdk:FuzzGo

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

# A fuzz run on a loaded machine can end with "context deadline exceeded"
# from the fuzzing engine itself, with no failing input: such a run is tried
# once more. A real failure writes its input under testdata/fuzz and fails.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		for try in 1 2; do \
			if out=$$($(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg 2>&1); then echo "$$out" | tail -n 2; break; fi; \
			echo "$$out" | tail -n 20; \
			if [ $$try = 1 ] && echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
				echo "fuzz engine timed out without a failing input; trying $$name again"; continue; fi; \
			exit 1; \
		done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

quickstart:
	$(GO) run ./examples/quickstart

# The evalrun image: a static binary on distroless, run as a non-root user,
# with evalrun itself as PID 1 so that SIGTERM (a drain, a Job's deadline)
# reaches it and it writes its records before it exits.
#
#   docker build --build-arg VERSION=v1.2.3 --build-arg COMMIT=$(git rev-parse HEAD) -t evalrun .
#   docker run --rm evalrun version
#
# tools/imagecheck tests that this file parses and that the last stage uses
# only what the build stage produces.

FROM golang:1.26 AS build
WORKDIR /src
# The modules first, so that a change to the code does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The version and commit are stamped in: the image has no .git to read them from.
ARG VERSION=dev
ARG COMMIT=
ENV CGO_ENABLED=0
RUN go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/evalrun/evalrun/internal/version.Stamped=${VERSION} -X github.com/evalrun/evalrun/internal/version.StampedCommit=${COMMIT}" \
      -o /out/evalrun ./cmd/evalrun

# distroless/static has CA certificates (for https suites), /tmp and the
# nonroot user 65532, and no shell: evalrun needs none.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/evalrun /evalrun
USER 65532:65532
ENTRYPOINT ["/evalrun"]
CMD ["--help"]

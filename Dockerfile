# Lockbox: static binaries on a distroless base, running as a non-root user.
#   docker build -t lockbox .
#   docker run --rm -v lockbox-data:/var/lib/lockbox lockbox init --data /var/lib/lockbox
#   docker run -p 7443:7443 -v lockbox-data:/var/lib/lockbox -v $PWD/policy:/etc/lockbox/policy:ro \
#     lockbox serve --listen 0.0.0.0:7443
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/ ./cmd/ca ./cmd/lockbox

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ca /out/lockbox /usr/local/bin/
USER nonroot:nonroot
VOLUME /var/lib/lockbox
EXPOSE 7443
ENTRYPOINT ["/usr/local/bin/ca"]
CMD ["serve"]

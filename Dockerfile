# Lockbox: static binaries (CGO_ENABLED=0) on a distroless base, running as
# the base image's non-root user (nonroot, 65532). One build stage makes
# every binary; each target is a small image of its own:
#
#   docker build --target ca -t lockbox-ca .          ca and the lockbox CLI
#   docker build --target bastion -t lockbox-bastion .
#   docker build --target gate -t lockbox-gate .      lockbox-gate for targets
#                                                      (copy it out; see below)
#
#   docker run --rm -v lockbox-data:/var/lib/lockbox lockbox-ca init --data /var/lib/lockbox
#   docker run -p 7443:7443 -v lockbox-data:/var/lib/lockbox -v $PWD/policy:/etc/lockbox/policy:ro \
#     lockbox-ca serve --listen 0.0.0.0:7443
#   docker run --rm -v bastion-data:/var/lib/lockbox-bastion lockbox-bastion init --data /var/lib/lockbox-bastion
#   docker run -p 2222:2222 -v bastion-data:/var/lib/lockbox-bastion \
#     lockbox-bastion serve --listen 0.0.0.0:2222 --ca http://ca.example:7443
#   docker create --name g lockbox-gate && docker cp g:/usr/local/bin/lockbox-gate . && docker rm g
#
# The build command below is the one cmd/ca's TestDockerfileBuild runs
# (go build with the same environment and flags), so a machine without
# Docker still checks that every binary builds static.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/ ./cmd/ca ./cmd/bastion ./cmd/lockbox ./cmd/lockbox-gate

FROM gcr.io/distroless/static-debian12:nonroot AS gate
COPY --from=build /out/lockbox-gate /usr/local/bin/
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/lockbox-gate"]

FROM gcr.io/distroless/static-debian12:nonroot AS bastion
COPY --from=build /out/bastion /usr/local/bin/
USER nonroot:nonroot
VOLUME /var/lib/lockbox-bastion
EXPOSE 2222 9465
ENTRYPOINT ["/usr/local/bin/bastion"]
CMD ["serve"]

# The last stage is the default: docker build without --target makes the CA.
FROM gcr.io/distroless/static-debian12:nonroot AS ca
COPY --from=build /out/ca /out/lockbox /usr/local/bin/
USER nonroot:nonroot
VOLUME /var/lib/lockbox
EXPOSE 7443 9464
ENTRYPOINT ["/usr/local/bin/ca"]
CMD ["serve"]

// Package pb holds the protobuf messages that cross dspex cluster nodes.
// The generated code is committed; regenerating needs protoc 3.21.12
// (Debian's protobuf-compiler) and protoc-gen-go v1.36.12:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go generate ./cluster/pb
package pb

// The file registers as "cluster/pb/cluster.proto" (paths from the module
// root): protoactor-go's own cluster package registers "cluster.proto".
//
//go:generate protoc --proto_path=../.. --go_out=../.. --go_opt=paths=source_relative ../../cluster/pb/cluster.proto

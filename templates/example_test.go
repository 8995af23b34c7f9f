package templates_test

import (
	"fmt"

	"github.com/flowtrace/flowtrace/templates"
)

func ExampleRender() {
	files, err := templates.Render("checkout",
		templates.WithModule("example.com/team/checkout"),
		templates.WithGRPC(),
	)
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		fmt.Println(f.Path)
	}
	// Output:
	// go.mod
	// main.go
	// handler.go
	// handler_test.go
	// grpc.go
	// deploy/kubernetes.yaml
	// Dockerfile
	// .dockerignore
	// .gitignore
	// README.md
}

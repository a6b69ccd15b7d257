module cocoon.test/goworkload

go 1.19

module go_app

go 1.24

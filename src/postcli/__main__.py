from postcli.cli import main

main()

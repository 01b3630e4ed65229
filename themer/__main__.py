from themer.cli import main

main()

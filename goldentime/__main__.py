from goldentime.cli import main

main()

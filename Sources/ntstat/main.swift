import NtstatCLI

NtstatCommand.main()

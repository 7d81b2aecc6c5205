import NtstatCLI
NtstatCommand.main()

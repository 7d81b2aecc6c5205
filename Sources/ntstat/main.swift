import NtstatCLI

NtstatCommand.runMain()

using Dlc.Cli;

return DlcCli.Run(args, Console.Out, Console.Error);

// The benchmark command is implemented by the engine work item (issue 2).
Console.WriteLine("SdBlazor bench: not implemented yet");

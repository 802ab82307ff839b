using System.Globalization;
using SdBlazor.Bench;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// dotnet run -c Release --project bench/SdBlazor.Bench -- [--model <model folder>] [--size PX] [--steps N] ... (BenchOptions.Usage)
var options = BenchOptions.Parse(args);
if (options is null || ((options.ProfileUNet || options.PeakRss || options.LoraPath is not null) && options.ModelPath is null))
{
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

if (options.CheckpointPath is not null && options.LoraPath is null) return ImportBenchmark.Run(options);

if (options.ModelPath is { } modelPath)
{
    // The real-scale report on one model folder (issue 8), e.g. the SD-sized folders from tools/make_sd_models.
    if (!Directory.Exists(modelPath))
    {
        Console.Error.WriteLine($"model folder '{modelPath}' does not exist (tools/make_sd_models writes .cache/sd-models/sd15 and sd21)");
        return 2;
    }
    if (options.LoraPath is not null) await LoraSwitchBenchmark.RunAsync(options);
    else if (options.ProfileUNet) UNetProfile.Run(options);
    else if (options.PeakRss) await PeakMemory.RunAsync(options);
    else await ModelBenchmark.RunAsync(options);
    return 0;
}

Console.WriteLine($"SdBlazor bench — {Environment.ProcessorCount} logical CPUs, .NET {Environment.Version}, {options.Steps} steps, Euler, CFG 7.5, batch 1");
Console.WriteLine();

var tinyParent = Path.Combine(Path.GetTempPath(), "sdblazor-bench", Guid.NewGuid().ToString("N"));
try
{
    var tiny = SdBlazor.Engine.Tests.TestModels.TinyModel.Create(tinyParent, "tiny-test-graph");
    // The tiny graph costs microseconds, so its ratios are dominated by the fixed per-step work; the absolute
    // overhead (ms per step) is what carries over to a real UNet of the same latent size.
    await StepBenchmark.RunAsync("tiny test graph", tiny, options);
    await StepBenchmark.RunAsync("tiny test graph", tiny, options, size: 512);
    // The same graph plus compute that costs about what a small real UNet does, so the ratios mean something
    // on machines without the default model.
    var weighted = SdBlazor.Engine.Tests.TestModels.TinyModel.Create(tinyParent, "tiny-graph-with-matmuls",
        new SdBlazor.Engine.Tests.TestModels.TinyModelOptions { SlowUNetMatMuls = 24 });
    await StepBenchmark.RunAsync("tiny graph + 24 chained 512×512 MatMuls", weighted, options, size: 512);

    var model = DefaultModelPath();
    if (model is not null && Directory.Exists(model)) await StepBenchmark.RunAsync($"{Path.GetFileName(model)} (native size)", model, options);
    else Console.WriteLine($"default model: not present ({model ?? "no repository models/ folder"}); pass --model <folder> for the real-scale report on one.");
}
finally
{
    try { Directory.Delete(tinyParent, true); } catch (IOException) { }
}
return 0;

static string? DefaultModelPath()
{
    var root = SdBlazor.Engine.Hosting.RepositoryRoot.Find(Directory.GetCurrentDirectory());
    return root is null ? null : Path.Combine(root, "models", new SdBlazor.Engine.EngineOptions().DefaultModel);
}

using Microsoft.Extensions.Options;

namespace SdBlazor.Engine.Hosting;

/// <summary>Rejects bad <c>Engine:*</c> settings at start-up with messages naming the key.</summary>
public sealed class EngineOptionsValidator : IValidateOptions<EngineOptions>
{
    public ValidateOptionsResult Validate(string? name, EngineOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DefaultModel)) failures.Add("Engine:DefaultModel must name a model folder.");
        if (options.DeviceId < 0) failures.Add($"Engine:DeviceId must be 0 or more (got {options.DeviceId}).");
        if (options.IntraOpThreads < 0) failures.Add($"Engine:IntraOpThreads must be 0 (ONNX Runtime's default) or more (got {options.IntraOpThreads}).");
        if (options.MaxLoadedModels is < 1 or > 64) failures.Add($"Engine:MaxLoadedModels must be 1 to 64 (got {options.MaxLoadedModels}).");
        if (options.OptimizedModelCacheMinBytes < 0) failures.Add($"Engine:OptimizedModelCacheMinBytes must be 0 or more (got {options.OptimizedModelCacheMinBytes}).");
        if (!Enum.IsDefined(options.FixedUNetShapes)) failures.Add($"Engine:FixedUNetShapes must be one of {string.Join(", ", Enum.GetNames<Onnx.FixedShapes>())}.");
        if (!Enum.IsDefined(options.ExecutionProvider)) failures.Add($"Engine:ExecutionProvider must be one of {string.Join(", ", Enum.GetNames<Onnx.ExecutionProviderKind>())}.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

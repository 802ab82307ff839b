namespace SdBlazor.Engine.Models.Sources;

/// <summary>
/// A single-file checkpoint cannot be used: the message starts with the model's name and says what was found
/// (truncated file, bad header, unknown dtype, unknown architecture…), so a user can tell which file to replace.
/// </summary>
public sealed class CheckpointException(string modelName, string problem, Exception? inner = null)
    : Exception($"Checkpoint '{modelName}': {problem}", inner)
{
    public string ModelName { get; } = modelName;
    public string Problem { get; } = problem;
}

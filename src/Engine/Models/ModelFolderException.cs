namespace SdBlazor.Engine.Models;

/// <summary>A model folder is missing a file, or a file in it is corrupt. The message names the file and the problem.</summary>
public sealed class ModelFolderException(string message, Exception? inner = null) : Exception(message, inner);

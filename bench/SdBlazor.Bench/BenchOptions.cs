namespace SdBlazor.Bench;

public sealed record BenchOptions(string? ModelPath, int Steps, int Threads, int Repeats)
{
    public static BenchOptions? Parse(string[] args)
    {
        string? model = null;
        int steps = 20, threads = 0, repeats = 3;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--model" when value is not null: model = Path.GetFullPath(value); i++; break;
                case "--steps" when int.TryParse(value, out steps) && steps > 1: i++; break;
                case "--threads" when int.TryParse(value, out threads) && threads >= 0: i++; break;
                case "--repeats" when int.TryParse(value, out repeats) && repeats > 0: i++; break;
                default: return null;
            }
        }
        return new BenchOptions(model, steps, threads, repeats);
    }
}

using SdBlazor.Engine.Randomness;
using SdBlazor.Engine.Schedulers;
using static SdBlazor.Engine.Tests.Schedulers.SchedulerTestConfigs;

namespace SdBlazor.Engine.Tests.Schedulers;

public class SchedulerUsageTests
{
    [Fact]
    public void Using_a_scheduler_before_set_timesteps_is_an_error()
    {
        var scheduler = SchedulerFactory.Create("Euler", null, Sd15);
        var sample = new float[4];
        var error = Assert.Throws<InvalidOperationException>(() => scheduler.ScaleModelInput(sample, 999, sample));
        Assert.Contains("SetTimesteps", error.Message);
    }

    [Fact]
    public void Stepping_past_the_schedule_is_an_error()
    {
        var scheduler = SchedulerFactory.Create("DDIM", null, Sd15);
        scheduler.SetTimesteps(2);
        var sample = new float[4];
        var output = new float[4];
        foreach (var t in scheduler.Timesteps.ToArray()) scheduler.Step(output, t, sample, null);
        Assert.Throws<InvalidOperationException>(() => scheduler.Step(output, 1, sample, null));
    }

    [Fact]
    public void Mismatched_buffer_sizes_are_rejected()
    {
        var scheduler = SchedulerFactory.Create("Euler", null, Sd15);
        scheduler.SetTimesteps(10);
        Assert.Throws<ArgumentException>(() => scheduler.Step(new float[3], scheduler.Timesteps[0], new float[4], null));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public void Step_count_outside_the_training_range_is_rejected(int steps) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SchedulerFactory.Create("Euler", null, Sd15).SetTimesteps(steps));

    [Theory]
    [InlineData("Euler a")]
    [InlineData("DPM++ 2M SDE")]
    public void Stochastic_samplers_need_generators(string sampler)
    {
        var scheduler = SchedulerFactory.Create(sampler, null, Sd15);
        scheduler.SetTimesteps(5);
        Assert.Throws<ArgumentException>(() => scheduler.Step(new float[16], scheduler.Timesteps[0], new float[16], null));
    }

    [Fact]
    public void Set_timesteps_resets_per_run_state_so_a_scheduler_can_be_reused()
    {
        var scheduler = SchedulerFactory.Create("DPM++ 2M SDE", null, Sd15);
        var first = DummyLoop.Run(scheduler, 10, noiseSeed: 5);
        var second = DummyLoop.Run(scheduler, 10, noiseSeed: 5);
        Assert.Equal(first.Final, second.Final);
    }

    [Fact]
    public void Stochastic_noise_depends_on_the_seed_and_batch_items_use_their_own_generator()
    {
        var scheduler = SchedulerFactory.Create("Euler a", null, Sd15);
        Assert.NotEqual(DummyLoop.Run(scheduler, 10, 1).Final, DummyLoop.Run(scheduler, 10, 2).Final);

        // A batch of two with generators (1, 2) equals two single runs with seeds 1 and 2.
        scheduler.SetTimesteps(10);
        var batch = DummyLoop.InitialSample().Concat(DummyLoop.InitialSample()).Select(v => v * scheduler.InitNoiseSigma).ToArray();
        TorchGenerator[] generators = [new TorchGenerator(1), new TorchGenerator(2)];
        var x = new float[batch.Length];
        var output = new float[batch.Length];
        foreach (var t in scheduler.Timesteps.ToArray())
        {
            scheduler.ScaleModelInput(batch, t, x);
            DummyLoop.Model(x, t, output);
            scheduler.Step(output, t, batch, generators);
        }
        Assert.Equal(DummyLoop.Run(SchedulerFactory.Create("Euler a", null, Sd15), 10, 1).Final, batch[..256]);
        Assert.Equal(DummyLoop.Run(SchedulerFactory.Create("Euler a", null, Sd15), 10, 2).Final, batch[256..]);
    }
}

namespace Eddy.Runtime;

/// <summary>Runs tasks on one shard's thread, through its ready queue.</summary>
internal sealed class ShardTaskScheduler : TaskScheduler
{
    private static readonly Action<object?> Execute = static s =>
    {
        var (scheduler, task) = ((ShardTaskScheduler, Task))s!;
        scheduler.TryExecuteTask(task);
    };

    private readonly Shard _shard;

    public ShardTaskScheduler(Shard shard) => _shard = shard;

    public override int MaximumConcurrencyLevel => 1;

    protected override void QueueTask(Task task) => _shard.PostCore(Execute, (this, task));

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued)
        => _shard.IsCurrent && TryExecuteTask(task);

    protected override IEnumerable<Task>? GetScheduledTasks() => null;
}

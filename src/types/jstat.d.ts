/** The part of jstat (no bundled types) that the sweep statistics use. */
declare module "jstat" {
  export const jStat: {
    readonly studentt: {
      /** The p-quantile of Student's t distribution with `dof` degrees of freedom. */
      inv(p: number, dof: number): number;
    };
  };
}
